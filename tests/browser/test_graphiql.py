"""GraphiQL at GET /graphql works in a real browser with no way out of the machine.

Every request that is not to the gateway is aborted (as on a network without internet); the
page must load from the gateway alone and run a query and a subscription.
"""

from __future__ import annotations

import pytest

from conftest import STEP_TIMEOUT, Frontend, LiveGateway

pytestmark = pytest.mark.browser

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"
START = 'mutation { startTimer(input: {description: "GraphiQL"}) { timer { id } } }'


async def open_graphiql(frontend: Frontend, gateway: LiveGateway, token: str) -> list[str]:
    """Open GraphiQL with outside requests blocked and the token in Headers; what was blocked."""
    page, blocked = frontend.page, []

    async def only_the_gateway(route) -> None:
        if route.request.url.startswith(gateway.url + "/"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_gateway)
    await page.goto(f"{gateway.url}/graphql", timeout=STEP_TIMEOUT * 1000)
    await page.wait_for_selector(QUERY_EDITOR)
    await set_editor(frontend, HEADERS_EDITOR, f'{{"Authorization": "Bearer {token}"}}')
    return blocked


async def set_editor(frontend: Frontend, selector: str, text: str) -> None:
    await frontend.page.eval_on_selector(selector, "(e, text) => e.CodeMirror.setValue(text)", text)


async def result_containing(frontend: Frontend, text: str) -> str:
    """The result pane once it contains ``text``."""
    script = "([s, t]) => document.querySelector(s)?.CodeMirror.getValue().includes(t)"
    try:
        await frontend.page.wait_for_function(script, arg=[RESULT, text])
    except Exception as error:
        shown = await frontend.page.eval_on_selector(RESULT, "e => e.CodeMirror.getValue()")
        raise AssertionError(
            f"{text!r} not in the result: {shown!r}; {frontend.problems}"
        ) from error
    value: str = await frontend.page.eval_on_selector(RESULT, "e => e.CodeMirror.getValue()")
    return value


async def test_graphiql_runs_a_query_with_no_internet(frontend, closed_gateway) -> None:
    """The page, its scripts and styles all come from the gateway; a query runs with the token
    from the Headers tab."""
    token = closed_gateway.token_for_new_user()
    blocked = await open_graphiql(frontend, closed_gateway, token)
    await set_editor(frontend, QUERY_EDITOR, "{ viewer { name } }")
    await frontend.page.click(".graphiql-execute-button")

    result = await result_containing(frontend, '"viewer"')
    name = (await closed_gateway.data(token, "{ viewer { name } }"))["viewer"]["name"]
    assert f'"name": "{name}"' in result
    assert blocked == []
    assert frontend.problems == []


async def test_graphiql_follows_a_subscription_with_no_internet(frontend, closed_gateway) -> None:
    """A subscription run in GraphiQL streams ticks as server-sent events, authenticated by the
    same Headers tab."""
    token = closed_gateway.token_for_new_user()
    blocked = await open_graphiql(frontend, closed_gateway, token)
    await closed_gateway.data(token, START)
    await set_editor(frontend, QUERY_EDITOR, "subscription { timerTicks { elapsedSeconds final } }")
    await frontend.page.click(".graphiql-execute-button")

    await result_containing(frontend, '"elapsedSeconds"')
    assert blocked == []
    assert frontend.problems == []
