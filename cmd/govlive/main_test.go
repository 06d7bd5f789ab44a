package main

import (
	"os"
	"os/exec"
	"testing"
)

// asCommandEnv set to 1 makes the test binary stand in for the govlive
// binary: it runs main with its arguments instead of the tests, so that
// tests can start real govlive processes (signals, exit status, locks held
// by another process, the bench commands' servers) without building one.
// (Not GOVLIVE_…: the bench commands strip those from their children.)
const asCommandEnv = "TEST_GOVLIVE_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommandEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command is govlive with args as a process of its own (not yet started).
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCommandEnv+"=1")
	return cmd
}
