package cli

import (
	"context"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
)

func TestRepeatPrintsPassRatesAndDurations(t *testing.T) {
	e := newEnv(t, solution)
	_, lab, err := e.f.resolveLab("start/01")
	require.NoError(t, err)
	var calls atomic.Int32
	seeds := map[uint64]bool{}
	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[0].ID: func(context.Context, *grader.Harness) error { return nil },
		// Fails every other run: a check whose verdict changes.
		lab.Checks[1].ID: func(_ context.Context, h *grader.Harness) error {
			seeds[h.Seed()] = true
			if calls.Add(1)%2 == 0 {
				return grader.Failf("flaky")
			}
			return nil
		},
		lab.Checks[2].ID: func(context.Context, *grader.Harness) error { return nil },
	})
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01", "--repeat", "4"))
	out := e.out.String()
	assert.Regexp(t, `^4 runs, seeds \d+, \d+, \d+, \d+\n`, out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^  clean-aggregates\s+4/4 passed  duration min \S+  median \S+  max \S+$`), out)
	assert.Regexp(t, `malformed-lines\s+2/4 passed  duration .*\(not the same verdict every run\)`, out)
	assert.Len(t, seeds, 4, "a fresh seed each run")
	assert.Contains(t, e.err.String(), "run 4/4 (seed")

	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[0].ID: func(context.Context, *grader.Harness) error { return nil },
		lab.Checks[1].ID: func(context.Context, *grader.Harness) error { return nil },
		lab.Checks[2].ID: func(context.Context, *grader.Harness) error { return nil },
	})
	assert.Equal(t, ExitOK, e.run("grade", "--lab", "start/01", "--repeat", "2"))
	assert.Contains(t, e.out.String(), "bounded-memory")
	assert.Regexp(t, `bounded-memory\s+2/2 passed`, e.out.String())
}
