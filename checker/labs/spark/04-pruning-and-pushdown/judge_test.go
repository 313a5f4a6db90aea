package pruning

import (
	"strings"
	"testing"
	"time"
)

// judgeRows names the boundary a wrong answer breaks, for the mistakes the
// lesson warns about.
func TestJudgeRowsNamesTheBoundary(t *testing.T) {
	ds := generate(11)
	weekEnd, _ := time.Parse(time.DateOnly, addDays(ds.from, weekDays))
	var eighth dayTotal
	eighth.Day = weekEnd.Format(time.DateOnly)
	for _, e := range ds.events {
		if e.device == ds.device && time.UnixMicro(e.ts).UTC().Format(time.DateOnly) == eighth.Day {
			eighth.Events++
			eighth.Total += e.reading
		}
	}
	right := append([]dayTotal(nil), ds.truth...)
	if err := judgeRows(ds, right); err != nil {
		t.Fatalf("the right answer fails: %v", err)
	}
	for _, c := range []struct {
		name string
		got  []dayTotal
		want string
	}{
		{"eight days", append(append([]dayTotal(nil), right...), eighth), "7 days, not 8"},
		{"first day missing", right[1:], "first day's midnight"},
		{"neighbour counted", func() []dayTotal {
			g := append([]dayTotal(nil), right...)
			g[2].Events++
			return g
		}(), "is wrong"},
		{"a day twice", append(append([]dayTotal(nil), right...), right[3]), "appears twice"},
	} {
		err := judgeRows(ds, c.got)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a failure saying %q", c.name, err, c.want)
		}
	}
}
