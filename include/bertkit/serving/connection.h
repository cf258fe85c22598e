// Whether an HTTP client is still connected while its request waits, so the
// server can drop the work of a client that went away. cpp-httplib 0.11
// does not expose a request's socket: it is found among the process's open
// sockets by the request's peer and local address.
#pragma once

#include <string>

namespace bertkit::serving {

// The socket connected to remote_addr:remote_port on local_port; -1 when none.
int find_connection_socket(const std::string& remote_addr, int remote_port, int local_port);
// True when the peer has closed the connection (or it failed).
bool peer_closed(int fd);

}  // namespace bertkit::serving
