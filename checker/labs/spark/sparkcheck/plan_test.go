package sparkcheck

import (
	"os"
	"testing"
)

func TestParsePlanKeepsTheFinalPlan(t *testing.T) {
	for _, c := range []struct {
		file              string
		final             bool
		exchanges, bcasts int
		joins             []string
	}{
		{"good", true, 1, 2, []string{"BroadcastHashJoin", "BroadcastHashJoin"}},
		{"naive", true, 2, 2, []string{"BroadcastHashJoin", "BroadcastHashJoin"}},
		{"cross", true, 2, 2, []string{"BroadcastHashJoin", "BroadcastNestedLoopJoin"}},
		{"bcsites", true, 1, 2, []string{"BroadcastHashJoin", "BroadcastHashJoin"}},
		{"good-explain", false, 1, 2, []string{"BroadcastHashJoin", "BroadcastHashJoin"}},
	} {
		b, err := os.ReadFile("testdata/" + c.file + ".plan")
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePlan(string(b))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if p.Final != c.final {
			t.Errorf("%s: final %v", c.file, p.Final)
		}
		if n := len(p.Named("Exchange")); n != c.exchanges {
			t.Errorf("%s: %d exchanges, want %d\n%s", c.file, n, c.exchanges, p.Text)
		}
		if n := len(p.Named("BroadcastExchange")); n != c.bcasts {
			t.Errorf("%s: %d broadcasts, want %d", c.file, n, c.bcasts)
		}
		var joins []string
		for _, n := range p.Nodes() {
			if IsJoin(n) {
				joins = append(joins, n.Name)
			}
		}
		if len(joins) != len(c.joins) || joins[0] != c.joins[0] || joins[1] != c.joins[1] {
			t.Errorf("%s: joins %v, want %v", c.file, joins, c.joins)
		}
		scans := p.Root.Find(func(n *Node) bool { return n.Name == "Scan" })
		if len(scans) != 3 {
			t.Errorf("%s: %d scans", c.file, len(scans))
		}
		for _, s := range scans {
			if s.Location() == "" {
				t.Errorf("%s: scan %s has no location: %q", c.file, s.Line(), s.Details)
			}
		}
	}
}
