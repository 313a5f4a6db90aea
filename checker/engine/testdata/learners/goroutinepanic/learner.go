package learner

import (
	"os"
	"time"
)

// Run writes the answer, then a background goroutine panics.
func Run(out string) error {
	go func() { panic("boom in a goroutine") }()
	time.Sleep(time.Second)
	return os.WriteFile(out, []byte("42"), 0o644)
}
