"""Pages answer a malformed query parameter with a 400 page naming it, as the API does."""

from django.shortcuts import render

from .params import InvalidParameter


class InvalidParameterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, InvalidParameter):
            return render(request, "errors/bad_parameter.html",
                          {"parameter": exception.field, "message": exception.message},
                          status=400)
        return None
