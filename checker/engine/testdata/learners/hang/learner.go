package learner

import (
	"os"
	"time"
)

// Run never returns.
func Run(out string) error {
	_ = os.WriteFile(out, []byte("42"), 0o644)
	for {
		time.Sleep(time.Second)
	}
}
