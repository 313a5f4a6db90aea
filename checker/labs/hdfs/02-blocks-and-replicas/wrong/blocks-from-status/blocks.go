// Package blocks is a wrong solution of hdfs/02-blocks-and-replicas.
//
// Mistake: Report computes the blocks from GETFILESTATUS's length and
// block size, counting length/blockSize+1 of them: an empty file gets a
// block of 0 bytes, and a file of exactly N blocks gets an N+1-th.
package blocks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// Cluster is how your code reaches the lab's HDFS; delab fills it in.
type Cluster struct {
	// NameNode is the NameNode's RPC address, "host:port".
	NameNode string
	// WebHDFS is the NameNode's HTTP address, "http://host:port": its
	// REST API answers under /webhdfs/v1.
	WebHDFS string
	// DialDataNode connects to a DataNode at the address the NameNode
	// gives for it ("172.18.0.2:9876"), from wherever your code runs.
	DialDataNode func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Block is one block of a file, as the NameNode sees it now.
type Block struct {
	// Offset is where the block starts in the file; Length its size in
	// bytes.
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// DataNodes are the transfer addresses ("ip:port") of the DataNodes
	// that hold a live replica of the block, in any order.
	DataNodes []string `json:"datanodes"`
	// UnderReplicated is true when fewer DataNodes hold it than the
	// file's replication factor asks for.
	UnderReplicated bool `json:"under_replicated"`
}

// Connect returns a client of the NameNode whose connections to DataNodes
// go through c.DialDataNode, to whichever DataNode the client asks for.
func Connect(c Cluster) (*hdfs.Client, error) {
	return hdfs.NewClient(hdfs.ClientOptions{
		Addresses:        []string{c.NameNode},
		User:             "delab",
		DatanodeDialFunc: c.DialDataNode,
	})
}

// Write stores everything data holds at path, creating its parent
// directories, with the given block size (bytes) and replication.
func Write(c Cluster, p string, data io.Reader, blockSize int64, replication int) error {
	client, err := Connect(c)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	w, err := client.CreateFile(p, replication, blockSize, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, data); err != nil {
		w.Close()
		return err
	}
	// The NameNode completes the file once the DataNodes have reported
	// its last block: retry Close while they have not yet.
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err = w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || attempt == 8 {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// Report asks the NameNode (WebHDFS) for the blocks of the file at path,
// in file order: where each starts, how long it is, which DataNodes hold a
// live replica, and whether that is fewer than the file's replication.
func Report(c Cluster, p string) ([]Block, error) {
	var status struct {
		FileStatus struct {
			Replication int   `json:"replication"`
			Length      int64 `json:"length"`
			BlockSize   int64 `json:"blockSize"`
		}
	}
	if err := webHDFS(c, p, "GETFILESTATUS", &status); err != nil {
		return nil, err
	}
	var locations struct {
		BlockLocations struct {
			BlockLocation []struct {
				Names []string `json:"names"`
			}
		}
	}
	if err := webHDFS(c, p, "GETFILEBLOCKLOCATIONS", &locations); err != nil {
		return nil, err
	}
	// The file's own block size, but the count of blocks rounded the
	// classic wrong way: one more than the whole blocks, always.
	st := status.FileStatus
	var out []Block
	for i := int64(0); i < st.Length/st.BlockSize+1; i++ {
		b := Block{Offset: i * st.BlockSize, Length: min(st.BlockSize, st.Length-i*st.BlockSize)}
		if int(i) < len(locations.BlockLocations.BlockLocation) {
			b.DataNodes = locations.BlockLocations.BlockLocation[i].Names
		}
		b.UnderReplicated = len(b.DataNodes) < st.Replication
		out = append(out, b)
	}
	return out, nil
}

// webHDFS runs one WebHDFS operation on path and decodes its JSON answer.
func webHDFS(c Cluster, p, op string, into any) error {
	u := c.WebHDFS + "/webhdfs/v1" + (&url.URL{Path: p}).EscapedPath() + "?op=" + op + "&user.name=delab"
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			RemoteException struct{ Message string }
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		return fmt.Errorf("WebHDFS %s %s: %s: %s", op, p, resp.Status, e.RemoteException.Message)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// Read copies every byte of the file at path to w. The client asks the
// NameNode where each block lives and reads it from one of the DataNodes
// holding it, trying the next one when a DataNode does not answer.
func Read(c Cluster, p string, w io.Writer) error {
	client, err := Connect(c)
	if err != nil {
		return err
	}
	defer client.Close()
	f, err := client.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
