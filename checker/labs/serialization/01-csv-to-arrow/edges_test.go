package csvtoarrow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/serialization/01-csv-to-arrow/solution"
)

// TestEveryEdgeIsInEveryCheck: for each check's data size and many seeds,
// every boundary case of the table sits on its row (valid ones in all
// checks, malformed ones where the check has malformed rows), and the
// reference's Convert agrees with the generator's truth on every row,
// batch and count.
func TestEveryEdgeIsInEveryCheck(t *testing.T) {
	for _, c := range []struct {
		n         int
		malformed float64
	}{{1500, 0}, {2500, 0}, {3500, 0}, {2000, 0.06}} {
		for seed := uint64(1); seed <= 50; seed++ {
			data, truth := generate(seed, c.n, c.malformed)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:]
			require.Len(t, lines, c.n)
			for _, e := range edges {
				if !e.valid && c.malformed == 0 {
					continue
				}
				row := e.row
				if row < 0 {
					row += c.n
				}
				f := strings.Split(lines[row], ",")
				switch {
				case e.valid && e.fields != nil && strings.Contains(e.rule, "device"):
					require.Equal(t, lateDevice, f[0], "seed %d, n %d: %s", seed, c.n, e.rule)
				case !e.valid:
					bad := len(f) != 4 || f[0] == "" || f[2] == "warm" || f[3] == "101" || f[3] == "-1"
					require.True(t, bad, "seed %d, n %d: row %d should show %s: %q", seed, c.n, row, e.rule, lines[row])
				}
			}
			for _, l := range lines[:1000] {
				require.False(t, strings.HasPrefix(l, lateDevice+","), "seed %d: %s appears in the first batch", seed, lateDevice)
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.arrow")
			require.NoError(t, os.WriteFile(in, data, 0o644))
			written, malformed, err := reference.Convert(in, out)
			require.NoError(t, err)
			require.Equal(t, len(truth.rows), written, "seed %d", seed)
			require.Equal(t, truth.malformed, malformed, "seed %d", seed)
			truth.returned.Written, truth.returned.Malformed = written, malformed
			require.NoError(t, readArrow(out, t.Logf, judgeSchema))
			require.NoError(t, readArrow(out, func(string, ...any) {}, func(f *ipc.FileReader) error { return judgeMalformed(func(string, ...any) {}, truth, f) }), "seed %d, n %d", seed, c.n)
		}
	}
}
