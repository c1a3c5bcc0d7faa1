"""The WSGI application gunicorn serves.

Once Django and every module its URLs reach are loaded, they live as long as the worker, so
they are moved out of the garbage collector's sight (``gc.freeze``). Otherwise each full
collection, which a few hundred requests' garbage sets off, walks all ~200,000 of them: about
130 ms for the request that meets it, ~0.7 ms a loan page on average (bench/profile_page.py
--gc shows the collector's time per request).
"""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")

application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)  # the views, forms and services the pages use
gc.freeze()
