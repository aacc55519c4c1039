// The test page's script (tests/todo_web): the client API on window, nothing else.
import { openTodoList, TodoError } from '../client.js'
window.openTodoList = openTodoList
window.TodoError = TodoError
