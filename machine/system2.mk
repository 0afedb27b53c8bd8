# machine/system2.mk: automake fragment (placeholder until its owner writes it)
