package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary stand in for the govlive binary: with
// GOVLIVE_TEST_AS_COMMAND=1 it runs main with its arguments instead of the
// tests, so that tests can start real govlive processes (signals, exit
// status, locks held by another process) without building one.
func TestMain(m *testing.M) {
	if os.Getenv("GOVLIVE_TEST_AS_COMMAND") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command is govlive with args as a process of its own (not yet started).
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GOVLIVE_TEST_AS_COMMAND=1")
	return cmd
}
