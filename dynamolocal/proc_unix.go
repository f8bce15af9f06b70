//go:build unix && !linux

package dynamolocal

import (
	"os"
	"syscall"
)

// sysProcAttr puts the JVM in its own process group so that Stop can kill it
// with any children.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup sends SIGKILL to the process group led by p.
func killProcessGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
