package learner

import "os"

// Run has a type error.
func Run(out string) error {
	var n int = "forty-two"
	return os.WriteFile(out, []byte(n), 0o644)
}
