//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package dynamolocal

import "context"

// lockFile does nothing here: concurrent installs each download, and the
// last rename wins (every install is complete, so any winner is right).
func lockFile(context.Context, string) (unlock func(), err error) {
	return func() {}, nil
}
