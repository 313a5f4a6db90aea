package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkOutPath reports, before any grading, whether a report can be
// written to path (`delab grade --out`): its folder must exist and take
// new files, and path must not be a folder. The error says what to do.
func checkOutPath(path string) error {
	if path == "" {
		return errors.New("--out needs a file name, e.g. --out report.json")
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a folder; name a file in it, e.g. --out %s", path, filepath.Join(path, "report.json"))
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("--out %s: the folder %s does not exist; create it first (mkdir -p %s) or write elsewhere", path, dir, shellQuote(dir))
	case err != nil:
		return fmt.Errorf("--out %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("--out %s: %s is a file, not a folder", path, dir)
	}
	// The report is written to a temporary file in the same folder, then
	// renamed: try exactly that.
	probe, err := os.CreateTemp(dir, ".delab-report-*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write in %s (%v); choose a folder you can write to", path, dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}
