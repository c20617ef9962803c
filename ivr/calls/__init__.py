"""Call controllers: one per FastAGI route, on one base (:mod:`ivr.calls.base`).

``hotline`` runs a hotline's menus, ``queue-wait`` the waiting experience (with the
callback offer), ``callback`` the call placed back to a citizen.
"""
