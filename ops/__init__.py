"""How the servers are started: command lines, supervisord configs and the local cluster."""
