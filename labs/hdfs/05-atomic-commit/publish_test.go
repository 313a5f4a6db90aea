package publish_test

// Your own quick loop against a real HDFS, no checker needed:
//
//	delab up hdfs        # once; it prints the NameNode and DataNode addresses
//	DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_DATANODES="9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>" \
//	    go test ./labs/hdfs/05-atomic-commit/
//
// (paste the datanodes list as `delab up` prints it). Without a reachable
// NameNode the tests skip and say so. They publish testdata/readings.csv
// under a fresh folder, with a crashed attempt's leftovers already staged,
// read the day back and compare it with the input; then publish a
// corrected day over it. The folder is removed afterwards. They do not
// pause or kill your code as the checker does: `delab check hdfs/05`
// still decides the grade. Add your own cases: this file is yours.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"

	publish "github.com/delab-dev/delab/labs/hdfs/05-atomic-commit"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read hdfs/04"
}

const day = "2026-11-30"

func TestPublishAfterACrash(t *testing.T) {
	client := connect(t)
	out := folder(t, client) + "/readings"
	// What a killed attempt leaves: a half-written staged day.
	crashed := out + "/_temporary/crashed-attempt/date=" + day + "/device=meter-03"
	if err := client.MkdirAll(crashed, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := client.Create(crashed + "/part-00000")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "meter-03,2026-11-30T00:00:00Z,1")
	w.Close()

	src := filepath.Join("testdata", "readings.csv")
	if err := publish.Publish(client, src, out, day); err != nil {
		t.Fatalf("Publish: %v%s", err, reread("Stage, then rename"))
	}
	compare(t, client, out, src)
	infos, err := client.ReadDir(out + "/_temporary")
	if err == nil && len(infos) > 0 {
		t.Errorf("%s/_temporary still holds %s after Publish returned%s", out, infos[0].Name(), reread("Crashes and re-runs"))
	}
}

func TestPublishAgainReplaces(t *testing.T) {
	client := connect(t)
	out := folder(t, client) + "/readings"
	src := filepath.Join("testdata", "readings.csv")
	if err := publish.Publish(client, src, out, day); err != nil {
		t.Fatalf("Publish: %v%s", err, reread("Stage, then rename"))
	}
	// The corrected day: meter-27 is gone, every other watts value changes.
	lines := readLines(t, src)
	var corrected []string
	for i, l := range lines {
		if strings.HasPrefix(l, "meter-27,") {
			continue
		}
		if i%2 == 0 {
			l = l[:strings.LastIndexByte(l, ',')] + ",999"
		}
		corrected = append(corrected, l)
	}
	src2 := filepath.Join(t.TempDir(), "corrected.csv")
	if err := os.WriteFile(src2, []byte(strings.Join(corrected, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := publish.Publish(client, src2, out, day); err != nil {
		t.Fatalf("Publish over a published day: %v%s", err, reread("Replacing a published day"))
	}
	compare(t, client, out, src2)
}

// compare reads the published day back and checks it against src.
func compare(t *testing.T, client *hdfs.Client, out, src string) {
	t.Helper()
	dayDir := out + "/date=" + day
	if _, err := client.Stat(dayDir + "/_SUCCESS"); err != nil {
		t.Errorf("no %s/_SUCCESS: %v%s", dayDir, err, reread("The layout of a day"))
	}
	want := map[string][]string{}
	for _, l := range readLines(t, src) {
		d, _, _ := strings.Cut(l, ",")
		want["device="+d] = append(want["device="+d], l)
	}
	devices, err := client.ReadDir(dayDir)
	if err != nil {
		t.Fatalf("list %s: %v%s", dayDir, err, reread("The layout of a day"))
	}
	var got []string
	for _, d := range devices {
		if d.IsDir() {
			got = append(got, d.Name())
		}
	}
	sort.Strings(got)
	if len(got) != len(want) {
		t.Errorf("%s holds the folders %v, want one per device in the input (%d)%s", dayDir, got, len(want), reread("The layout of a day"))
	}
	for dev, lines := range want {
		for p := 0; p*publish.PartLines < len(lines); p++ {
			path := fmt.Sprintf("%s/%s/part-%05d", dayDir, dev, p)
			data, err := client.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v%s", path, err, reread("The layout of a day"))
				continue
			}
			chunk := strings.Join(lines[p*publish.PartLines:min(len(lines), (p+1)*publish.PartLines)], "\n") + "\n"
			if string(data) != chunk {
				t.Errorf("%s holds %d bytes, want the device's readings %d to %d (%d bytes)%s", path, len(data),
					p*publish.PartLines+1, min(len(lines), (p+1)*publish.PartLines), len(chunk), reread("The layout of a day"))
			}
		}
		parts, _ := client.ReadDir(dayDir + "/" + dev)
		if n := (len(lines) + publish.PartLines - 1) / publish.PartLines; len(parts) != n {
			t.Errorf("%s/%s holds %d files, want %d part files%s", dayDir, dev, len(parts), n, reread("Replacing a published day"))
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

// folder makes a fresh HDFS folder for one test and removes it afterwards.
func folder(t *testing.T, client *hdfs.Client) string {
	t.Helper()
	dir := fmt.Sprintf("/delab-local/%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = client.RemoveAll(dir) })
	return dir
}

// connect returns a client of the HDFS that `delab up hdfs` keeps running,
// named by DELAB_HDFS_NAMENODE and DELAB_HDFS_DATANODES, and skips the test
// when there is none. The NameNode hands out DataNode addresses inside
// Docker's network; each is dialled through the port published for it.
func connect(t *testing.T) *hdfs.Client {
	t.Helper()
	how := "run `delab up hdfs` first, then the tests with the addresses it prints:\n" +
		"    DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_DATANODES=\"9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>\" go test ./labs/hdfs/05-atomic-commit/"
	nameNode := os.Getenv("DELAB_HDFS_NAMENODE")
	if nameNode == "" {
		t.Skip("no HDFS to test against: " + how)
	}
	conn, err := net.DialTimeout("tcp", nameNode, 3*time.Second)
	if err != nil {
		t.Skipf("the NameNode at %s is not reachable (%v): %s", nameNode, err, how)
	}
	conn.Close()
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
