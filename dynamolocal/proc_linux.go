//go:build linux

package dynamolocal

import (
	"os"
	"syscall"
)

// sysProcAttr puts the JVM in its own process group (so that Stop can kill it
// with any children) and asks the kernel to kill it if this process dies
// without calling Stop (a test binary hitting its -timeout, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killProcessGroup sends SIGKILL to the process group led by p.
func killProcessGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
