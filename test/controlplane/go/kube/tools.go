//go:build tools

// Package tools names the main packages of this module so that `go mod tidy` keeps their
// dependencies in go.sum; scripts/controlplane.sh builds them with `go build`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
