# tests/guest/local.mk: automake fragment (placeholder until its owner writes it)
