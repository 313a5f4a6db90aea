package learner

import (
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Run starts a child that inherits stdout and outlives it, then hangs.
func Run(out string) error {
	cmd := exec.Command("sleep", "300")
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	_ = os.WriteFile(out+".pid", []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	for {
		time.Sleep(time.Second)
	}
}
