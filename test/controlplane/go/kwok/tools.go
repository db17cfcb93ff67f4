//go:build tools

// Package tools names kwok's main package so that `go mod tidy` keeps its dependencies in go.sum;
// scripts/controlplane.sh builds it with `go build`.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
