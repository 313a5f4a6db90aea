package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// NotFoundError says an id matched nothing and offers the closest ids.
type NotFoundError struct {
	Kind        string // "lab" or "lesson"
	Query       string
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, e.Query)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(e.Suggestions), " or ") + "?"
	}
	return msg + fmt.Sprintf(" (run `delab list` to see every %s)", e.Kind)
}

// AmbiguousError says a short id matched more than one item.
type AmbiguousError struct {
	Kind    string
	Query   string
	Matches []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s %q is ambiguous: it matches %s", e.Kind, e.Query, strings.Join(quoteAll(e.Matches), ", "))
}

// ResolveLab finds a lab by its full id ("start/01-logs-to-metrics") or a
// short form: "start/01", "01-logs-to-metrics", "logs-to-metrics".
func (c *Catalog) ResolveLab(q string) (*Lab, error) {
	var ids []string
	for _, l := range c.Labs() {
		ids = append(ids, l.ID)
	}
	id, err := resolve("lab", q, ids, func(id string) []string {
		l := c.labs[id]
		return []string{l.ID, l.Track + "/" + l.Number, l.Number + "-" + l.Slug, l.Slug, l.Track + "/" + l.Slug}
	})
	if err != nil {
		return nil, err
	}
	return c.labs[id], nil
}

// ResolveLesson finds a lesson by id or by its file name without the track,
// with or without the number prefix.
func (c *Catalog) ResolveLesson(q string) (*Lesson, error) {
	var ids []string
	for _, l := range c.Lessons() {
		ids = append(ids, l.ID)
	}
	id, err := resolve("lesson", q, ids, func(id string) []string {
		name := id[strings.Index(id, "/")+1:]
		forms := []string{id, name}
		if m := labFolder.FindStringSubmatch(name); m != nil {
			forms = append(forms, m[2], c.lessons[id].Track+"/"+m[1])
		}
		return forms
	})
	if err != nil {
		return nil, err
	}
	return c.lessons[id], nil
}

func resolve(kind, q string, ids []string, forms func(id string) []string) (string, error) {
	q = strings.Trim(strings.TrimSpace(q), "/")
	q = strings.TrimPrefix(q, "labs/")
	q = strings.TrimPrefix(q, "lessons/")
	q = strings.TrimSuffix(q, ".md")
	var matches []string
	for _, id := range ids {
		for _, f := range forms(id) {
			if f == q {
				matches = append(matches, id)
				break
			}
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", &NotFoundError{Kind: kind, Query: q, Suggestions: suggest(q, ids, forms)}
	default:
		return "", &AmbiguousError{Kind: kind, Query: q, Matches: matches}
	}
}

// suggest returns up to three ids whose forms are closest to q by edit distance.
func suggest(q string, ids []string, forms func(string) []string) []string {
	type cand struct {
		id   string
		dist int
	}
	var cs []cand
	for _, id := range ids {
		best := -1
		for _, f := range forms(id) {
			d := editDistance(q, f)
			if strings.Contains(f, q) && len(q) >= 3 {
				d = 1
			}
			if best < 0 || d < best {
				best = d
			}
		}
		limit := len(q)/2 + 1
		if best <= limit {
			cs = append(cs, cand{id, best})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].id)
	}
	return out
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
