package learner

import "os"

// Run panics before writing.
func Run(out string) error {
	var m map[string]int
	m[out]++
	return os.WriteFile(out, []byte("42"), 0o644)
}
