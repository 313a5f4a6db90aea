package sparkcheck

import (
	"reflect"
	"testing"
)

// The tags are as Spark 4.0.1 lists them for two users' Spark Connect
// queries that ran at the same time (measured).
func TestUserExecutionIDsKeepsOnlyThatUsersExecutions(t *testing.T) {
	jobs := []Job{
		{JobID: 14, Tags: []string{"SparkConnect_OperationTag_User_u16620_Session_8c5d_Operation_3043", "spark-session-cb2e", "spark-session-cb2e-execution-root-id-114"}},
		{JobID: 13, Tags: []string{"SparkConnect_OperationTag_User_u38328_Session_4361_Operation_f7cc", "broadcast exchange (runId e32f)", "spark-session-cf17", "spark-session-cf17-execution-root-id-113"}},
		{JobID: 12, Tags: []string{"SparkConnect_OperationTag_User_u16620_Session_8c5d_Operation_3043", "broadcast exchange (runId 9204)", "spark-session-cb2e-execution-root-id-114"}},
		{JobID: 11, Tags: []string{"SparkConnect_OperationTag_User_u1662_Session_0000_Operation_0000", "spark-session-0000-execution-root-id-99"}},
		{JobID: 2, Tags: nil}, // a Thrift Server query has no Connect tags
	}
	for _, c := range []struct {
		user string
		want []int64
	}{
		{"u16620", []int64{114}},
		{"u38328", []int64{113}},
		{"u1662", []int64{99}}, // a prefix of another user's id is not that user
		{"nobody", nil},
	} {
		if got := UserExecutionIDs(jobs, c.user); !reflect.DeepEqual(got, c.want) {
			t.Errorf("UserExecutionIDs(%s) = %v, want %v", c.user, got, c.want)
		}
	}
}
