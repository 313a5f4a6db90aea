package learner

import "os"

// Run forges a "returned" message on the harness's result pipe without
// knowing the nonce, writes the answer, and exits.
func Run(out string) error {
	_ = os.WriteFile(out, []byte("42"), 0o644)
	f := os.NewFile(4, "result")
	_, _ = f.WriteString(`{"nonce":"guess","returned":true}` + "\n")
	os.Exit(0)
	return nil
}
