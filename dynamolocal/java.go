package dynamolocal

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// javaVersionRE finds the version in the output of `java -version`, such as
// `openjdk version "17.0.15" 2025-04-15` or `java version "1.8.0_392"`.
var javaVersionRE = regexp.MustCompile(`version "([^"]+)"`)

// checkJava finds java (a path, or a name looked up on PATH) and checks that
// it runs and is Java 17 or later. It returns its path, or an error wrapping
// ErrJava that names what to install. A version it cannot read is let
// through: the JVM's own error will tell.
func checkJava(ctx context.Context, java string) (string, error) {
	path, err := exec.LookPath(java)
	if err != nil {
		where := fmt.Sprintf("java %q not found", java)
		if !strings.ContainsAny(java, `/\`) {
			where = fmt.Sprintf("%s not found on PATH", java)
		}
		return "", fmt.Errorf("%w: %s (%v); %s", ErrJava, where, err, javaHint)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-version").CombinedOutput()
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("dynamolocal: running `%s -version`: %w", path, ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("%w: `%s -version` failed (%v): %s; %s", ErrJava, path, err, strings.TrimSpace(string(out)), javaHint)
	}
	if major, line, ok := javaMajor(out); ok && major < minJava {
		return "", fmt.Errorf("%w: %s is Java %d (%s); %s", ErrJava, path, major, line, javaHint)
	}
	return path, nil
}

// javaMajor reads the major version from the output of `java -version`:
// 17 from "17.0.15", 8 from "1.8.0_392". It also returns the line it read.
func javaMajor(out []byte) (major int, line string, ok bool) {
	for l := range strings.SplitSeq(string(out), "\n") {
		m := javaVersionRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v := strings.TrimPrefix(m[1], "1.")
		end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
		if end >= 0 {
			v = v[:end]
		}
		n, err := strconv.Atoi(v)
		return n, strings.TrimSpace(l), err == nil
	}
	return 0, "", false
}
