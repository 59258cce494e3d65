# bench/lib.sh: shell functions the benchmark scripts share (sourced by
# storm.sh and http/compare.sh, from the repository's top directory).

# del_netns NS...: kills every process in each network namespace and
# deletes it; a namespace that is not there is skipped.
del_netns() {
	local ns p
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
}

# nginx_conf: so that the scripts that run nginx as a peer measure the
# same nginx.
#
# nginx_conf DIR LISTEN ROOT writes DIR/nginx.conf: nginx in the
# foreground, one worker per core, no access log, sendfile on, serving
# ROOT on LISTEN (address:port), with its pid, logs and temporary files
# in DIR. Start it with: nginx -c DIR/nginx.conf -p DIR
nginx_conf() {
	local dir=$1 listen=$2 root=$3
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<-CONF
		daemon off;
		worker_processes auto;
		user root;
		pid $dir/nginx.pid;
		error_log $dir/error.log;
		events { worker_connections 8192; }
		http {
		  access_log off;
		  sendfile on;
		  tcp_nopush on;
		  client_body_temp_path $dir;
		  proxy_temp_path $dir;
		  fastcgi_temp_path $dir;
		  uwsgi_temp_path $dir;
		  scgi_temp_path $dir;
		  server { listen $listen; root $root; }
		}
	CONF
}
