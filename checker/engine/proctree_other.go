//go:build !linux

package engine

import (
	"os/exec"
	"syscall"
)

// Elsewhere than Linux there is no /proc and no subreaper: the process
// sandbox follows the learner's process group only, and memory is the
// harness's own report (see README, "What is trusted").

func becomeSubreaper() {}

func startOwn(cmd *exec.Cmd) error { return cmd.Start() }

func forgetOwn(int) {}

type procTree struct{ root int }

func newProcTree(root int) *procTree { return &procTree{root: root} }

func (t *procTree) residentTotal() int64 { return 0 }

func (t *procTree) killAll() { _ = syscall.Kill(-t.root, syscall.SIGKILL) }

func statusField(int, string) int64 { return 0 }
