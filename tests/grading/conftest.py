"""The notebooks here are submissions to grade (hostile ones among them) and a demo source: never run them as tests."""

collect_ignore_glob = ["*.ipynb", "submissions/*", "make_submissions.py"]
