// Package endpoints holds the addresses of the services a grading run
// uses, and the DELAB_* variables that hand them to the learner's code.
// It imports no container or client library, so a grader that only reads
// addresses (every grader does, through grader.Harness) carries none of
// Docker's or the service clients' packages.
package endpoints

import (
	"fmt"
	"sort"
	"strings"
)

// Addresses of the services inside their Docker network, by alias and
// internal port: what a process in the container sandbox dials.
const (
	// KafkaInternalBroker is the broker address for containers on the stack's network.
	KafkaInternalBroker = "kafka:19092"
	// KafkaInternalFaultBroker leads, for containers on the stack's
	// network, through the fault proxy to the broker (KafkaFaultBrokers).
	KafkaInternalFaultBroker = "kafka:19094"
	// HDFSNameNodeURI is the file system URI for containers on the stack's network.
	HDFSNameNodeURI = "hdfs://hdfs:8020"
	// HDFSInternalWebHDFS is the NameNode's HTTP address (WebHDFS, JMX,
	// web UI) for containers on the stack's network.
	HDFSInternalWebHDFS = "http://hdfs:9870"
	// SparkInternalThrift is the Thrift Server's address inside the services' network.
	SparkInternalThrift = "spark:10000"
	// SparkInternalConnect is the Spark Connect URL inside the services' network.
	SparkInternalConnect = "sc://spark:15002"
)

// Endpoints are the addresses of a stack's services as seen from the host.
// The zero value means no services (a service-free lab).
type Endpoints struct {
	KafkaBrokers []string
	// KafkaFaultBrokers lead to the same broker through the fault proxy
	// in its container, which a check can arm to lose the broker's
	// answers to produce requests (checker/services/faultproxy).
	KafkaFaultBrokers []string
	HDFSNameNode      string
	// HDFSDataNodes maps each DataNode's transfer port inside its
	// container to its address on the host: the NameNode hands out
	// container addresses, which the host cannot always reach.
	HDFSDataNodes map[int]string
	HDFSWebUI     string
	SparkThrift   string
	// SparkConnect is the Spark Connect URL, "sc://host:port".
	SparkConnect string
	SparkUI      string
	// Network is the Docker network the services share; a sandbox
	// container that joins it reaches them by alias (InNetworkEnv).
	Network string
}

// Env renders the endpoints as the DELAB_* variables a learner's process
// (through its harness) reads.
func (e Endpoints) Env() []string {
	var env []string
	if len(e.KafkaBrokers) > 0 {
		env = append(env, "DELAB_KAFKA_BROKERS="+strings.Join(e.KafkaBrokers, ","))
	}
	if len(e.KafkaFaultBrokers) > 0 {
		env = append(env, "DELAB_KAFKA_FAULT_BROKERS="+strings.Join(e.KafkaFaultBrokers, ","))
	}
	if e.HDFSNameNode != "" {
		env = append(env, "DELAB_HDFS_NAMENODE="+e.HDFSNameNode)
		var dn []string
		for port, addr := range e.HDFSDataNodes {
			dn = append(dn, fmt.Sprintf("%d=%s", port, addr))
		}
		sort.Strings(dn)
		env = append(env, "DELAB_HDFS_DATANODES="+strings.Join(dn, ","))
		if e.HDFSWebUI != "" {
			env = append(env, "DELAB_HDFS_WEBHDFS="+e.HDFSWebUI)
		}
	}
	if e.SparkThrift != "" {
		env = append(env, "DELAB_SPARK_THRIFT="+e.SparkThrift)
	}
	if e.SparkConnect != "" {
		env = append(env, "DELAB_SPARK_CONNECT="+e.SparkConnect)
	}
	return env
}

// InNetworkEnv renders the DELAB_* variables for a process inside the
// services' Docker network (the container sandbox): services by alias and
// internal port, DataNodes as the NameNode names them.
func (e Endpoints) InNetworkEnv() []string {
	var env []string
	if len(e.KafkaBrokers) > 0 {
		env = append(env, "DELAB_KAFKA_BROKERS="+KafkaInternalBroker)
	}
	if len(e.KafkaFaultBrokers) > 0 {
		env = append(env, "DELAB_KAFKA_FAULT_BROKERS="+KafkaInternalFaultBroker)
	}
	if e.HDFSNameNode != "" {
		env = append(env, "DELAB_HDFS_NAMENODE="+strings.TrimPrefix(HDFSNameNodeURI, "hdfs://"), "DELAB_HDFS_DATANODES=")
		if e.HDFSWebUI != "" {
			env = append(env, "DELAB_HDFS_WEBHDFS="+HDFSInternalWebHDFS)
		}
	}
	if e.SparkThrift != "" {
		env = append(env, "DELAB_SPARK_THRIFT="+SparkInternalThrift)
	}
	if e.SparkConnect != "" {
		env = append(env, "DELAB_SPARK_CONNECT="+SparkInternalConnect)
	}
	return env
}
