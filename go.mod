module github.com/quire/quire

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/yuin/goldmark v1.8.7
	go.etcd.io/bbolt v1.5.0
	golang.org/x/net v0.62.0
)

require golang.org/x/sys v0.49.0 // indirect
