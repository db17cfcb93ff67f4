//go:build tools

// Package tools names etcd's main package so that `go mod tidy` keeps its dependencies in go.sum;
// scripts/controlplane.sh builds it with `go build`.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
