package endpoints

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEnv(t *testing.T) {
	all := Endpoints{
		KafkaBrokers:  []string{"127.0.0.1:32768", "127.0.0.1:32769"},
		HDFSNameNode:  "127.0.0.1:32770",
		HDFSDataNodes: map[int]string{9876: "127.0.0.1:32772", 9866: "127.0.0.1:32771"},
		HDFSWebUI:     "http://127.0.0.1:32773",
		SparkThrift:   "127.0.0.1:32774",
		SparkConnect:  "sc://127.0.0.1:32776",
		SparkUI:       "http://127.0.0.1:32775",
		Network:       "delab-net",
	}
	tests := []struct {
		name          string
		ep            Endpoints
		want, network []string
	}{
		{name: "no services", ep: Endpoints{}},
		{name: "kafka", ep: Endpoints{KafkaBrokers: []string{"127.0.0.1:1", "127.0.0.1:2"}},
			want:    []string{"DELAB_KAFKA_BROKERS=127.0.0.1:1,127.0.0.1:2"},
			network: []string{"DELAB_KAFKA_BROKERS=kafka:19092"}},
		{name: "all three, DataNodes in port order", ep: all,
			want: []string{
				"DELAB_KAFKA_BROKERS=127.0.0.1:32768,127.0.0.1:32769",
				"DELAB_HDFS_NAMENODE=127.0.0.1:32770",
				"DELAB_HDFS_DATANODES=9866=127.0.0.1:32771,9876=127.0.0.1:32772",
				"DELAB_HDFS_WEBHDFS=http://127.0.0.1:32773",
				"DELAB_SPARK_THRIFT=127.0.0.1:32774",
				"DELAB_SPARK_CONNECT=sc://127.0.0.1:32776",
			},
			// In the network the NameNode's own DataNode addresses work:
			// the routes are emptied, not left pointing at host ports.
			network: []string{
				"DELAB_KAFKA_BROKERS=kafka:19092",
				"DELAB_HDFS_NAMENODE=hdfs:8020",
				"DELAB_HDFS_DATANODES=",
				"DELAB_HDFS_WEBHDFS=http://hdfs:9870",
				"DELAB_SPARK_THRIFT=spark:10000",
				"DELAB_SPARK_CONNECT=sc://spark:15002",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.ep.Env())
			assert.Equal(t, tt.network, tt.ep.InNetworkEnv())
		})
	}
}
