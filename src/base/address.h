// Facts about network addresses that more than one layer needs: the HTTP
// URL policy and the shared state store's (PostgreSQL) connection policy
// both allow a connection without TLS only to loopback, on a port only root
// can bind.
#pragma once

#include <string_view>

namespace otp {

// "localhost", 127.0.0.0/8 or ::1 (an IPv6 address may be in brackets).
bool is_loopback_host(std::string_view host);

// The first port any user may bind (the kernel's
// net.ipv4.ip_unprivileged_port_start, which covers IPv6 too; 1024 when it
// cannot be read).
int unprivileged_port_start();

}  // namespace otp
