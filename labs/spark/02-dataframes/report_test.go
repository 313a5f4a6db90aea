package report_test

// Your own quick loop against a real Spark, no checker needed:
//
//	delab up hdfs spark   # once; it prints the addresses used below
//	DELAB_SPARK_CONNECT=sc://127.0.0.1:<port> DELAB_HDFS_NAMENODE=127.0.0.1:<port> \
//	DELAB_HDFS_DATANODES="9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>" \
//	    go test ./labs/spark/02-dataframes/
//
// (paste the datanodes list as `delab up` prints it). Without reachable
// services the test skips and says so. It puts testdata/events.parquet (13
// events, one for each rule of the lesson) on HDFS, runs your DailyReport,
// and reads the report back through Spark; the answer was worked out by
// hand below. Add your own cases: this file is yours. `delab check
// spark/02` still decides the grade, on two million events it generates,
// with your process limited to 48 MiB.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/colinmarc/hdfs/v2"

	report "github.com/delab-dev/delab/labs/spark/02-dataframes"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read spark/01"
}

const how = "run `delab up hdfs spark` first, then the test with the addresses it prints:\n" +
	"    DELAB_SPARK_CONNECT=sc://127.0.0.1:<port> DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_DATANODES=\"9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>\" go test ./labs/spark/02-dataframes/"

// row is one row of the report as this test reads it back.
type row struct {
	Site, Day        string
	Events, Readings int64
	Min, Max, Mean   any // float64, or nil when the row has no reading
}

func TestDailyReport(t *testing.T) {
	ctx := context.Background()
	spark := connectSpark(t)
	client := connectHDFS(t)
	data, err := os.ReadFile(filepath.Join("testdata", "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("/delab-local/%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = client.RemoveAll(dir) })
	put(t, client, dir+"/events/events.parquet", data)

	// Spark runs in Docker and reaches HDFS by its name there, hdfs:8020.
	in, out := "hdfs://hdfs:8020"+dir+"/events", "hdfs://hdfs:8020"+dir+"/report"
	if err := report.DailyReport(ctx, spark, in, out); err != nil {
		t.Fatalf("DailyReport(%q, %q): %v%s", in, out, err, reread("Your lab: a daily report"))
	}

	// The layout: one folder per day with kept events (2026-03-03 has
	// only a reading of 200, so no folder), and _SUCCESS.
	infos, err := client.ReadDir(dir + "/report")
	if err != nil {
		t.Fatalf("list %s/report on HDFS: %v%s", dir, err, reread("Writing a partitioned folder"))
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	sort.Strings(names)
	if want := []string{"_SUCCESS", "day=2026-03-01", "day=2026-03-02"}; !reflect.DeepEqual(names, want) {
		t.Errorf("the report folder holds %v, want %v%s", names, want, reread("Writing a partitioned folder"))
	}
	oneDay, err := spark.Read().Format("parquet").Load(out + "/day=2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := oneDay.Schema(ctx)
	if err != nil {
		t.Fatalf("read the files of day=2026-03-01: %v%s", err, reread("Writing a partitioned folder"))
	}
	var cols []string
	for _, f := range schema.Fields {
		cols = append(cols, f.Name)
	}
	sort.Strings(cols)
	if want := []string{"events", "max_reading", "mean_reading", "min_reading", "readings", "site"}; !reflect.DeepEqual(cols, want) {
		t.Errorf("the files of day=2026-03-01 have the columns %v, want %v (day is in the folder name, not in the files)%s", cols, want, reread("Writing a partitioned folder"))
	}

	// The values, read back through Spark (which adds day from the folder
	// names).
	back, err := spark.Read().Format("parquet").Load(out)
	if err != nil {
		t.Fatal(err)
	}
	back, err = back.SelectExpr(ctx, "site", "CAST(day AS STRING) AS day", "events", "readings", "min_reading", "max_reading", "mean_reading")
	if err != nil {
		t.Fatalf("read the report back: %v%s", err, reread("Your lab: a daily report"))
	}
	rows, err := back.Collect(ctx) // a handful of rows: collecting them is fine
	if err != nil {
		t.Fatalf("read the report back: %v%s", err, reread("Your lab: a daily report"))
	}
	var got []row
	for _, r := range rows {
		v := r.Values()
		events, _ := v[2].(int64)
		readings, _ := v[3].(int64)
		got = append(got, row{fmt.Sprint(v[0]), fmt.Sprint(v[1]), events, readings, v[4], v[5], v[6]})
	}
	sort.Slice(got, func(i, j int) bool {
		if got[i].Day != got[j].Day {
			return got[i].Day < got[j].Day
		}
		return got[i].Site < got[j].Site
	})
	want := []row{
		// No reading, two events: a row with nulls.
		{"depot", "2026-03-01", 2, 0, nil, nil, nil},
		// -40 and 125 are kept, 130 is not, the null reading is an event,
		// and 23:59:59.999999 is still March 1st: (20.5-40+125+30)/4.
		{"harbor", "2026-03-01", 5, 4, -40.0, 125.0, 33.875},
		{"harbor", "2026-03-02", 1, 1, 10.0, 10.0, 10.0},
		// depot's only March 2nd event (-40.5) is dropped: no row.
		{"mill", "2026-03-02", 2, 2, 12.25, 13.75, 13.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the report:\n    got  %+v\n    want %+v%s", got, want, reread("Your lab: a daily report"))
	}
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
	if _, err := w.Write(data); err != nil {
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

// connectSpark opens a Spark Connect session on the Spark that `delab up
// spark` keeps running, named by DELAB_SPARK_CONNECT, or skips the test.
func connectSpark(t *testing.T) sql.SparkSession {
	t.Helper()
	remote := os.Getenv("DELAB_SPARK_CONNECT")
	if remote == "" {
		t.Skip("no Spark to test against: " + how)
	}
	u, err := url.Parse(remote)
	if err != nil || u.Scheme != "sc" {
		t.Fatalf("DELAB_SPARK_CONNECT=%q is not sc://host:port", remote)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 3*time.Second); err != nil {
		t.Skipf("Spark Connect at %s is not reachable (%v): %s", u.Host, err, how)
	} else {
		c.Close()
	}
	s, err := sql.NewSessionBuilder().Remote(remote).Build(context.Background())
	if err != nil {
		t.Fatalf("connect to Spark Connect at %s: %v", remote, err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// connectHDFS returns a client of the HDFS that `delab up hdfs` keeps
// running, named by DELAB_HDFS_NAMENODE and DELAB_HDFS_DATANODES, or skips
// the test. The NameNode hands out DataNode addresses inside Docker's
// network; each is dialled through the port published for it.
func connectHDFS(t *testing.T) *hdfs.Client {
	t.Helper()
	nameNode := os.Getenv("DELAB_HDFS_NAMENODE")
	if nameNode == "" {
		t.Skip("no HDFS to put the events on: " + how)
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
