package grader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/txtar"
)

// ExtractStarter writes the files of a txtar archive into dir, refusing
// names that would escape it.
func ExtractStarter(archive []byte, dir string) error {
	a := txtar.Parse(archive)
	if len(a.Files) == 0 {
		return fmt.Errorf("starter archive holds no files")
	}
	for _, f := range a.Files {
		name := filepath.Clean(f.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("starter archive: bad file name %q", f.Name)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// StarterFiles lists the file names in a txtar archive.
func StarterFiles(archive []byte) []string {
	var names []string
	for _, f := range txtar.Parse(archive).Files {
		names = append(names, f.Name)
	}
	return names
}
