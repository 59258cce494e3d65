# bench/nginx.sh: sourced by the benchmark scripts that run nginx as a
# peer (storm.sh, http/compare.sh), so that they measure the same nginx.
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
