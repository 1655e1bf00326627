# Loaded from /opt/venv/etc/jupyter, next to base's /etc/jupyter config. Serves custom.css (the
# Rucio extension's icon font, offline) and the font from Debian's folder (a symlink would be
# refused as outside the served folder), after the user's own ~/.jupyter/custom, which still
# wins file by file. static_custom_path is a web-app setting, not a config option; a plain dict,
# as jupyterhub-singleuser tests `in` on it, which a lazy `.update()` value fails.
import os

from jupyter_core.paths import jupyter_config_dir

c = get_config()  # noqa: F821 - defined by the config loader
c.LabApp.custom_css = True
c.JupyterNotebookApp.custom_css = True
c.ServerApp.tornado_settings = {
    "static_custom_path": [
        os.path.join(jupyter_config_dir(), "custom"),
        "/usr/local/share/skahub/custom",
        "/usr/share/fonts/woff/material-design-icons-iconfont",
    ],
}
