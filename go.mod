module github.com/quire/quire

go 1.26.8
