package pruning_test

// Your own quick loop against a real Spark, no checker needed:
//
//	delab up hdfs spark   # once; it prints the addresses used below
//	DELAB_SPARK_CONNECT=sc://127.0.0.1:<port> DELAB_HDFS_NAMENODE=127.0.0.1:<port> \
//	DELAB_HDFS_DATANODES="9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>" \
//	    go test -v ./labs/spark/04-pruning-and-pushdown/
//
// (paste the datanodes list as `delab up` prints it). Without reachable
// services the test skips and says so. It puts testdata/events.parquet
// (ten events, listed below) on HDFS, runs your Layout and WeekTotals on
// it, and compares the rows with an answer worked out by hand. It judges
// the rows only: to see what Spark read, print
// df.Explain(ctx, utils.ExplainModeFormatted) while you work and look at
// PartitionFilters and PushedFilters; `delab check spark/04` measures the
// bytes on four weeks of events. Add your own cases: this file is yours.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/colinmarc/hdfs/v2"

	pruning "github.com/delab-dev/delab/labs/spark/04-pruning-and-pushdown"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read spark/03"
}

const how = "run `delab up hdfs spark` first, then the test with the addresses it prints:\n" +
	"    DELAB_SPARK_CONNECT=sc://127.0.0.1:<port> DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_DATANODES=\"9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>\" go test -v ./labs/spark/04-pruning-and-pushdown/"

func TestWeekTotals(t *testing.T) {
	spark := connectSpark(t)
	client := connectHDFS(t)
	dir := fmt.Sprintf("/delab-local/%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = client.RemoveAll(dir) })
	data, err := os.ReadFile(filepath.Join("testdata", "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, client, dir+"/raw/events.parquet", data)
	// Spark runs in Docker and reaches HDFS by its name there, hdfs:8020.
	raw, table := "hdfs://hdfs:8020"+dir+"/raw", "hdfs://hdfs:8020"+dir+"/table"
	ctx := context.Background()
	if err := pruning.Layout(ctx, spark, raw, table); err != nil {
		t.Fatalf("Layout: %v%s", err, reread("The task"))
	}
	for _, day := range []string{"2025-03-01", "2025-03-09", "2025-03-17"} {
		if _, err := client.Stat(dir + "/table/day=" + day); err != nil {
			t.Errorf("Layout wrote no folder day=%s under %s: %v%s", day, table, err, reread("Partition pruning"))
		}
	}
	got, err := pruning.WeekTotals(ctx, spark, table, "dev-0002", "2025-03-10")
	if err != nil {
		t.Fatalf("WeekTotals: %v%s", err, reread("The task"))
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Day < got[j].Day })
	// dev-0002's week is 2025-03-10 00:00:00 up to, not including,
	// 2025-03-17 00:00:00: 5 at the first instant, 10 and -3 on the 12th,
	// 7 at the last microsecond. Not counted: 100 a microsecond before the
	// week, 1000 at the eighth day's midnight, and dev-0001, dev-0003 and
	// dev-0002x, the devices around it.
	want := []pruning.DayTotal{
		{Day: "2025-03-10", Events: 1, Total: 5},
		{Day: "2025-03-12", Events: 2, Total: 7},
		{Day: "2025-03-16", Events: 1, Total: 7},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("WeekTotals(dev-0002, 2025-03-10):\n    got  %+v\n    want %+v%s", got, want, reread("The task"))
	}
}

// connectSpark opens a Spark Connect session on the Spark that `delab up
// spark` keeps running, named by DELAB_SPARK_CONNECT, or skips the test.
func connectSpark(t *testing.T) sql.SparkSession {
	t.Helper()
	url := os.Getenv("DELAB_SPARK_CONNECT")
	if url == "" {
		t.Skip("no Spark to test against: " + how)
	}
	addr := strings.TrimPrefix(url, "sc://")
	if c, err := net.DialTimeout("tcp", addr, 3*time.Second); err != nil {
		t.Skipf("Spark Connect at %s is not reachable (%v): %s", addr, err, how)
	} else {
		c.Close()
	}
	s, err := sql.NewSessionBuilder().Remote(url).Build(context.Background())
	if err != nil {
		t.Fatalf("connect to Spark Connect at %s: %v", url, err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// put writes data to a new HDFS file, retrying Close while the NameNode
// waits for the last block's replicas.
func put(t *testing.T, client *hdfs.Client, path string, data []byte) {
	t.Helper()
	if err := client.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("create %s on HDFS: %v", filepath.Dir(path), err)
	}
	w, err := client.CreateFile(path, 1, 128<<20, 0o644)
	if err != nil {
		t.Fatalf("create %s on HDFS: %v", path, err)
	}
	if _, err := io.Copy(w, strings.NewReader(string(data))); err != nil {
		t.Fatalf("write %s on HDFS: %v", path, err)
	}
	for attempt := 0; ; attempt++ {
		err := w.Close()
		if err == nil {
			return
		}
		if !hdfs.IsErrReplicating(err) || attempt == 8 {
			t.Fatalf("close %s on HDFS: %v", path, err)
		}
		time.Sleep(100 * time.Millisecond << attempt)
	}
}

// connectHDFS returns a client of the HDFS that `delab up hdfs` keeps
// running, named by DELAB_HDFS_NAMENODE and DELAB_HDFS_DATANODES, or skips
// the test. The NameNode hands out DataNode addresses inside Docker's
// network; each is dialled through the port published for it.
func connectHDFS(t *testing.T) *hdfs.Client {
	t.Helper()
	nameNode := os.Getenv("DELAB_HDFS_NAMENODE")
	if nameNode == "" {
		t.Skip("no HDFS to put the CSV on: " + how)
	}
	if c, err := net.DialTimeout("tcp", nameNode, 3*time.Second); err != nil {
		t.Skipf("the NameNode at %s is not reachable (%v): %s", nameNode, err, how)
	} else {
		c.Close()
	}
	routes := map[string]string{}
	for _, kv := range strings.FieldsFunc(os.Getenv("DELAB_HDFS_DATANODES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		kv = strings.Replace(kv, "→", "=", 1)
		if port, addr, ok := strings.Cut(kv, "="); ok {
			routes[port] = addr
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	client, err := hdfs.NewClient(hdfs.ClientOptions{
		Addresses: []string{nameNode},
		User:      "delab",
		DatanodeDialFunc: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(addr); err == nil && routes[port] != "" {
				addr = routes[port]
			}
			return dialer.DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		t.Fatalf("connect to HDFS at %s: %v", nameNode, err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}
