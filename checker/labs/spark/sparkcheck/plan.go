package sparkcheck

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Node is one operator of a physical plan as Spark's formatted explain
// prints it: "BroadcastHashJoin Inner BuildLeft (19)" has Name
// "BroadcastHashJoin", Args "Inner BuildLeft" and ID 19.
type Node struct {
	ID       int
	Name     string
	Args     string
	Parent   *Node
	Children []*Node
	// Details is the node's paragraph below the tree ("(19) ..."), if any.
	Details string
}

// Line is the node as the plan prints it.
func (n *Node) Line() string {
	s := n.Name
	if n.Args != "" {
		s += " " + n.Args
	}
	return fmt.Sprintf("%s (%d)", s, n.ID)
}

// Walk calls f on n and every node below it, parents first.
func (n *Node) Walk(f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		c.Walk(f)
	}
}

// Find returns the nodes below n (n included) for which keep is true.
func (n *Node) Find(keep func(*Node) bool) []*Node {
	var out []*Node
	n.Walk(func(x *Node) {
		if keep(x) {
			out = append(out, x)
		}
	})
	return out
}

// Ancestor returns the nearest node above n for which keep is true.
func (n *Node) Ancestor(keep func(*Node) bool) *Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if keep(p) {
			return p
		}
	}
	return nil
}

// Location is the path list a file scan reads ("Location: ... [paths]").
func (n *Node) Location() string {
	for _, l := range strings.Split(n.Details, "\n") {
		if strings.HasPrefix(l, "Location: ") {
			return strings.TrimPrefix(l, "Location: ")
		}
	}
	return ""
}

// Plan is a parsed final physical plan.
type Plan struct {
	Root *Node
	// Final is true when the plan was the adaptive plan's final one.
	Final bool
	// Text is the tree as Spark printed it.
	Text string
}

// Nodes returns every node of the plan, parents first.
func (p *Plan) Nodes() []*Node { return p.Root.Find(func(*Node) bool { return true }) }

// Named returns the nodes with that operator name.
func (p *Plan) Named(name string) []*Node {
	return p.Root.Find(func(n *Node) bool { return n.Name == name })
}

var (
	treeLine  = regexp.MustCompile(`^([ :|+\-]*?)(\* )?([A-Za-z].*?) +\((\d+)\)(, Statistics\(.*\))?$`)
	detailHdr = regexp.MustCompile(`(?m)^\((\d+)\) `)
)

// ParsePlan parses a formatted plan ("== Physical Plan ==", as Explain
// with the formatted mode and the REST API's planDescription print it).
// Of an adaptive plan it keeps the final plan when there is one (the plan
// that ran), else the initial one.
func ParsePlan(desc string) (*Plan, error) {
	desc = strings.ReplaceAll(desc, "\r\n", "\n")
	parts := strings.SplitN(desc, "\n\n", 2)
	tree := strings.Split(parts[0], "\n")
	details := ""
	if len(parts) == 2 {
		details = parts[1]
	}
	var lines []string
	final := false
	inFinal, sawFinal := false, false
	for _, l := range tree {
		switch {
		case strings.Contains(l, "== Physical Plan =="):
			continue
		case strings.Contains(l, "== Final Plan =="):
			inFinal, sawFinal, final = true, true, true
			lines = nil
			continue
		case strings.Contains(l, "== Initial Plan =="):
			inFinal = false
			continue
		}
		if sawFinal && !inFinal {
			continue
		}
		lines = append(lines, l)
	}
	byID := map[int]*Node{}
	var root *Node
	type open struct {
		col  int
		node *Node
	}
	var stack []open
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || strings.TrimSpace(l) == "+-" {
			continue
		}
		m := treeLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		col := len(m[1])
		if m[2] != "" {
			col += len(m[2])
		}
		id, _ := strconv.Atoi(m[4])
		name, args, _ := strings.Cut(strings.TrimSpace(m[3]), " ")
		n := &Node{ID: id, Name: name, Args: strings.TrimSpace(args)}
		for len(stack) > 0 && stack[len(stack)-1].col >= col {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			if root != nil {
				return nil, fmt.Errorf("plan has two roots: %q and %q", root.Line(), n.Line())
			}
			root = n
		} else {
			p := stack[len(stack)-1].node
			n.Parent = p
			p.Children = append(p.Children, n)
		}
		stack = append(stack, open{col, n})
		byID[id] = n
	}
	if root == nil {
		return nil, fmt.Errorf("no plan tree in %.200q", desc)
	}
	idx := detailHdr.FindAllStringSubmatchIndex(details, -1)
	for i, loc := range idx {
		end := len(details)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		id, _ := strconv.Atoi(details[loc[2]:loc[3]])
		if n := byID[id]; n != nil && n.Details == "" {
			n.Details = strings.TrimSpace(details[loc[0]:end])
		}
	}
	return &Plan{Root: root, Final: final, Text: strings.Join(lines, "\n")}, nil
}

// IsJoin tells whether the node is a join operator.
func IsJoin(n *Node) bool {
	switch n.Name {
	case "BroadcastHashJoin", "ShuffledHashJoin", "SortMergeJoin", "BroadcastNestedLoopJoin", "CartesianProduct":
		return true
	}
	return false
}

// Tree renders the plan as an indented tree of node lines, without the
// statistics the final plan prints (they change from run to run).
func (p *Plan) Tree() string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + n.Line() + "\n")
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(p.Root, 0)
	return strings.TrimRight(b.String(), "\n")
}
