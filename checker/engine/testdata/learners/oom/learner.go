package learner

import "os"

var sink [][]byte

// Run holds ever more memory.
func Run(out string) error {
	for i := 0; i < 4096; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		sink = append(sink, b)
	}
	return os.WriteFile(out, []byte("42"), 0o644)
}
