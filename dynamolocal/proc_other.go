//go:build !unix

package dynamolocal

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killProcessGroup kills p (process groups are a Unix notion).
func killProcessGroup(p *os.Process) error { return p.Kill() }
