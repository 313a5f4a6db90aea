package blocks_test

// Your own quick loop against a real HDFS, no checker needed:
//
//	delab up hdfs        # once; it prints the NameNode, web UI and DataNode addresses
//	DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_WEBHDFS=http://127.0.0.1:<port> \
//	DELAB_HDFS_DATANODES="9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>" \
//	    go test ./labs/hdfs/02-blocks-and-replicas/
//
// (DELAB_HDFS_WEBHDFS is the web UI address; paste the datanodes list as
// `delab up` prints it). Without a reachable NameNode the tests skip and
// say so. They write testdata/readings.csv, repeated to 2.5 MiB, with
// 1 MiB blocks and replication 2, report its blocks and read it back, as the checker does;
// the folder is removed afterwards. Killing a DataNode is the checker's
// part: `delab check hdfs/02` still decides the grade.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	blocks "github.com/delab-dev/delab/labs/hdfs/02-blocks-and-replicas"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read hdfs/01"
}

func TestWriteReportRead(t *testing.T) {
	c := cluster(t)
	sample, err := os.ReadFile(filepath.Join("testdata", "readings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The sample, repeated to 2.5 MiB: three blocks of 1 MiB.
	data := bytes.Repeat(sample, (5<<19)/len(sample)+1)[:5<<19]
	const blockSize, replication = 1 << 20, 2
	path := fmt.Sprintf("/delab-local/%d/in/readings.csv", time.Now().UnixNano())
	t.Cleanup(func() { cleanup(c, path) })
	if err := blocks.Write(c, path, bytes.NewReader(data), blockSize, replication); err != nil {
		t.Fatalf("Write: %v%s", err, reread("Choosing the layout when you write"))
	}

	// The DataNodes report their replicas a moment after the write.
	var got []blocks.Block
	for deadline := time.Now().Add(15 * time.Second); ; {
		got, err = blocks.Report(c, path)
		if err != nil {
			t.Fatalf("Report: %v%s", err, reread("Asking the NameNode where the blocks are"))
		}
		if complete(got, replication) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := (len(data) + blockSize - 1) / blockSize
	if len(got) != want {
		t.Fatalf("Report returned %d blocks for %d bytes in %d-byte blocks, want %d%s", len(got), len(data), blockSize, want, reread("Asking the NameNode where the blocks are"))
	}
	for i, b := range got {
		wantLen := int64(min(blockSize, len(data)-i*blockSize))
		if b.Offset != int64(i*blockSize) || b.Length != wantLen {
			t.Errorf("block %d: offset %d, length %d; want offset %d, length %d%s", i, b.Offset, b.Length, i*blockSize, wantLen, reread("Asking the NameNode where the blocks are"))
		}
		if len(b.DataNodes) != replication || b.UnderReplicated {
			t.Errorf("block %d: DataNodes %v, under-replicated %t; want %d DataNodes (\"ip:port\"), not under-replicated%s", i, b.DataNodes, b.UnderReplicated, replication, reread("Asking the NameNode where the blocks are"))
		}
		for _, dn := range b.DataNodes {
			if _, _, err := net.SplitHostPort(dn); err != nil {
				t.Errorf("block %d: DataNode %q is not an \"ip:port\" transfer address%s", i, dn, reread("Asking the NameNode where the blocks are"))
			}
		}
	}

	var back bytes.Buffer
	if err := blocks.Read(c, path, &back); err != nil {
		t.Fatalf("Read: %v%s", err, reread("Reading: the client goes to the DataNodes"))
	}
	if !bytes.Equal(back.Bytes(), data) {
		t.Errorf("Read returned %d bytes that differ from the %d written%s", back.Len(), len(data), reread("Reading: the client goes to the DataNodes"))
	}
}

func complete(got []blocks.Block, replication int) bool {
	for _, b := range got {
		if len(b.DataNodes) < replication {
			return false
		}
	}
	return len(got) > 0
}

// cleanup removes the test's folder with the reference's own means: a
// client through the same Cluster.
func cleanup(c blocks.Cluster, path string) {
	client, err := blocks.Connect(c)
	if err != nil || client == nil {
		return
	}
	defer client.Close()
	_ = client.RemoveAll(filepath.Dir(filepath.Dir(path)))
}

// cluster returns how to reach the HDFS that `delab up hdfs` keeps running,
// named by DELAB_HDFS_NAMENODE, DELAB_HDFS_WEBHDFS and DELAB_HDFS_DATANODES,
// and skips the test when there is none. The NameNode hands out DataNode
// addresses inside Docker's network; each is dialled through the port
// published for it.
func cluster(t *testing.T) blocks.Cluster {
	t.Helper()
	how := "run `delab up hdfs` first, then the tests with the addresses it prints:\n" +
		"    DELAB_HDFS_NAMENODE=127.0.0.1:<port> DELAB_HDFS_WEBHDFS=http://127.0.0.1:<port> DELAB_HDFS_DATANODES=\"9866→127.0.0.1:<port> 9876→127.0.0.1:<port> 9886→127.0.0.1:<port>\" go test ./labs/hdfs/02-blocks-and-replicas/"
	nameNode, webHDFS := os.Getenv("DELAB_HDFS_NAMENODE"), os.Getenv("DELAB_HDFS_WEBHDFS")
	if nameNode == "" || webHDFS == "" {
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
	return blocks.Cluster{
		NameNode: nameNode,
		WebHDFS:  strings.TrimSuffix(webHDFS, "/"),
		DialDataNode: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(addr); err == nil && routes[port] != "" {
				addr = routes[port]
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
}
