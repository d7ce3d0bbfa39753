#!/bin/sh
# 党建台账离线安装：在没有软件源（PyPI）的内网机器上，从本目录 wheels/ 中的安装包安装。
# 用法：sh install.sh [安装目录]        默认安装到 /opt/dangjian（虚拟环境在 安装目录/venv）
#       PYTHON=/usr/bin/python3.11 sh install.sh /opt/dangjian   指定 Python 解释器
# 升级：先备份（见 docs/deploy.md），再对同一安装目录运行本脚本，然后运行 dangjian init 并重启服务。
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${1:-/opt/dangjian}
PYTHON=${PYTHON:-python3}
WANT=$(cat "$HERE/PYTHON_VERSION")

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "找不到 Python 解释器 $PYTHON。请先安装 Python $WANT（或用 PYTHON=/path/to/python3 指定）。" >&2
    exit 1
fi
HAVE=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$HAVE" != "$WANT" ]; then
    echo "本安装包是为 Python $WANT 制作的，而 $PYTHON 是 Python $HAVE。" >&2
    echo "请用 PYTHON=/path/to/python$WANT 指定解释器，或在与本机相同版本的 Python 上重新 make wheels。" >&2
    exit 1
fi
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    if ! "$PYTHON" -m venv "$PREFIX/venv"; then
        echo "无法创建虚拟环境。Debian/Ubuntu 请先从系统安装介质安装 python3-venv 软件包。" >&2
        exit 1
    fi
fi
# --no-index: never reach for a package index; everything comes from wheels/.
"$PREFIX/venv/bin/python" -m pip install --no-index --find-links "$HERE/wheels" --upgrade dangjian
echo "安装完成：$PREFIX/venv/bin/dangjian"
echo "下一步：设置 DANGJIAN_DATA_DIR（及 DANGJIAN_DATABASE_URL），运行 $PREFIX/venv/bin/dangjian init，详见 docs/deploy.md。"
