// An iperf3 server for TCP tests, both ways and with parallel streams, on skiff/net.h's
// coroutines. One test at a time, as iperf3's own server: a client that comes while a test
// is under way hears ACCESS_DENIED. A client that breaks the protocol, goes quiet or goes away
// ends its own test with a message on the console; the server goes on serving.
#ifndef APPS_NETBENCH_IPERF_SERVER_H_
#define APPS_NETBENCH_IPERF_SERVER_H_

#include "skiff/coro.h"
#include "skiff/net.h"

namespace netbench {

// Serves iperf3 tests on |listener| (port 5201 for the stock client) for ever. Prints a line
// per test and direction: "netbench: iperf3 #N from ADDR: received|sent BYTES bytes in S s,
// R Mbit/s, K streams (the client sent|received BYTES), CPU P%".
//
// A sender's bytes are those it queued to the stack, as iperf3 counts the bytes written to a
// socket; lwIP keeps up to 1 MiB a connection queued (TCP_SND_BUF), so on a slow link the
// server's "sent" runs ahead of the client's "received" by up to that much a stream.
skiff::Co<> ServeIperf(skiff::net::TcpListener listener);

}  // namespace netbench

#endif  // APPS_NETBENCH_IPERF_SERVER_H_
