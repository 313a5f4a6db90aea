package learner

import "os"

// Run writes the answer file, from Answer.
func Run(out string) error { return os.WriteFile(out, []byte(Answer(1)), 0o644) }

// Answer takes an argument the wrapper does not pass.
func Answer(n int) string { return "42" }
