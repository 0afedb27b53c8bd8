# blockdev.mk: automake fragment (placeholder until its owner writes it)
