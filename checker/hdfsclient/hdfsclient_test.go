package hdfsclient

import (
	"errors"
	"os"
	"testing"

	"github.com/colinmarc/hdfs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stuck() error { return &os.PathError{Op: "create", Path: "/f", Err: hdfs.ErrReplicating} }

func TestAStuckWriteIsWrittenAgain(t *testing.T) {
	var calls []bool
	err := rewriteWhileStuck(3, func(again bool) error {
		calls = append(calls, again)
		if len(calls) < 3 {
			return stuck()
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, true}, calls, "only the rewrites replace the earlier copy")
}

func TestAWriteStuckEveryTimeSaysSo(t *testing.T) {
	calls := 0
	err := rewriteWhileStuck(3, func(bool) error { calls++; return stuck() })
	require.Error(t, err)
	assert.Equal(t, 3, calls)
	assert.ErrorIs(t, err, hdfs.ErrReplicating)
	assert.Contains(t, err.Error(), "written 3 times")
}

func TestOtherWriteErrorsAreNotRetried(t *testing.T) {
	calls := 0
	boom := errors.New("permission denied")
	err := rewriteWhileStuck(3, func(bool) error { calls++; return boom })
	assert.Equal(t, boom, err)
	assert.Equal(t, 1, calls)
}
