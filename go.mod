module github.com/quire/quire

go 1.26.8

require (
	github.com/yuin/goldmark v1.8.7
	golang.org/x/net v0.62.0
)

require github.com/google/uuid v1.6.0
